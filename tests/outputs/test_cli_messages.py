"""Messages a command-line user reads: an unknown option gets a close match from the
subcommand's own options and points to that subcommand's help."""

import pytest

from scalinglaws.outputs.cli import main


@pytest.mark.parametrize("argv, expected", [
    (["fit", "sweep.csv", "--colums", "N=params"],
     "unrecognized arguments: --colums N=params; did you mean --columns? "
     "(see `scalinglaws fit --help`)"),
    # case-insensitive: --d is --D, an option of predict
    (["predict", "fit.json", "--d", "140B"],
     "unrecognized arguments: --d 140B; did you mean --D? (see `scalinglaws predict --help`)"),
    (["predict", "fit.json", "--N=7B", "--d=140B"], "did you mean --D? (see `scalinglaws predict"),
    # nested: the innermost subcommand's options and help
    (["curves", "fit", "logs.csv", "--metod", "ar1"],
     "did you mean --method? (see `scalinglaws curves fit --help`)"),
])
def test_an_unknown_option_gets_the_subcommands_close_match(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("scalinglaws: error: "), err
    assert expected in err, err


def test_an_unknown_option_with_no_close_match_still_names_the_subcommands_help(capsys):
    assert main(["fit", "sweep.csv", "--no-such-flag"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("scalinglaws: error: unrecognized arguments: --no-such-flag "
                   "(see `scalinglaws fit --help`)")
