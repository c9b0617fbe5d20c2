"""Stage 3, fitting: the batched multi-start engine, the estimators on top of it
(Approach 3 ``fit``; Approaches 1 and 2) and their frozen results."""
