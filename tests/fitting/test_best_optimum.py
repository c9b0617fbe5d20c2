"""The estimator's last step (fitting/_best_optimum.py): which optima get scipy's polish."""

import numpy as np

from scalinglaws.fitting._best_optimum import worth_polishing


def test_only_the_best_few_optima_near_the_best_are_polished():
    fun = np.array([1.0, 1.001, 1.019, 1.021, 1.005, 1.0001])
    groups = [np.array([0]), np.array([5, 1]), np.array([4]), np.array([2]), np.array([3])]
    # best first: 1.0, 1.0001, 1.005 are within 2% but only 3 are polished; 1.019 would be
    # within 2% too, 1.021 would not
    assert [g.tolist() for g in worth_polishing(groups, fun)] == [[0], [5, 1], [4]]
    far = [np.array([0]), np.array([3])]
    assert [g.tolist() for g in worth_polishing(far, fun)] == [[0]]  # 1.021 is 2.1% above
    assert [g.tolist() for g in worth_polishing([np.array([0]), np.array([2])], fun)] == \
        [[0], [2]]
