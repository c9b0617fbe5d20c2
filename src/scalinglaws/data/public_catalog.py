"""The public datasets this package knows: where each comes from and how to check it.

:class:`PublicDataset` records a dataset's file name, its download URL and SHA-256 (a file
fetched as is), the authors' raw files it is converted from (``raw_pattern``) and the
fingerprint of the converted table the package's tests use; :data:`DATASETS` lists them.
Fetching and loading are in :mod:`scalinglaws.data.public`, conversion of the authors'
files in :mod:`scalinglaws.data.public_convert`; both read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DATASETS", "PublicDataset"]


@dataclass(frozen=True)
class PublicDataset:
    """Where a public dataset comes from and how to check it.

    ``url``/``sha256``: a file downloaded as is. ``sources``: the authors' files a table is
    converted from (``raw_pattern`` finds them in a folder). ``content_sha256``: the
    :func:`table_fingerprint` of the converted table the package's tests use.
    """

    name: str
    filename: str
    description: str
    url: str | None = None
    sha256: str | None = None
    how_to_get: str = ""
    raw_pattern: str | None = None
    content_sha256: str | None = None


_PORIAN_REPO = ("https://github.com/formll/resolving-scaling-law-discrepancies/raw/"
                "0dc60d91b8a525858a3067fc9e4a46ff5374cc6f/data/")
_DATABLATIONS = ("https://github.com/huggingface/datablations/raw/"
                 "13701315b163f1c54642b94ad237b2699187c3ee/utils/parametric_fit.ipynb")

DATASETS = {
    "epoch_chinchilla": PublicDataset(
        name="epoch_chinchilla", filename="svg_extracted_data.csv",
        description="245 Chinchilla runs digitised by Epoch AI from Hoffmann et al. (2022) Fig. 4 "
                    "(Besiroglu et al. 2024, arXiv 2404.10102)",
        url="https://raw.githubusercontent.com/epoch-research/analyzing-chinchilla/"
            "92258837425e1b5f2851d624287f0120583a3d0e/data/svg_extracted_data.csv",
        sha256="193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30",
        how_to_get="repository epoch-research/analyzing-chinchilla, file data/svg_extracted_data.csv"),
    "porian2024": PublicDataset(
        name="porian2024", filename="porian2024_isoflop.csv",
        description="IsoFLOP sweeps of Porian et al. (2024, arXiv 2406.19146), converted from "
                    "the authors' pandas pickles without unpickling arbitrary objects",
        how_to_get="download summary_df.pickle.xz, summary_df_att.pickle.xz, "
                   "summary_df_kaplan_tuned_hparams.pickle.xz and summary_df_owt2.pickle.xz from "
                   f"{_PORIAN_REPO} into one folder and pass that folder (it is converted "
                   "safely), or pass a CSV with columns setting, N, D, C, loss",
        raw_pattern="summary_df*.pickle.xz",
        content_sha256="929c09e307da8f34329b169cbd26dd6e20ad8442dfc2a2718c6153b92d3aac48"),
    "muennighoff2023": PublicDataset(
        name="muennighoff2023", filename="datablations_c4_runs.csv",
        description="Repeated-data runs of Muennighoff et al. (2023, arXiv 2305.16264), read "
                    "from the dict literals of utils/parametric_fit.ipynb in huggingface/datablations",
        how_to_get=f"download {_DATABLATIONS} and pass it (or its folder; it is read as data, "
                   "never run), or pass a CSV with columns N, D, U, loss (and in_paper_fit_set)",
        raw_pattern="parametric_fit.ipynb",
        content_sha256="75c7477acfe10669876e59651d475be775b6e697c2fa5565b5785ef487f83718"),
}
