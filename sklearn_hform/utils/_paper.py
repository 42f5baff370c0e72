"""The published figures this package reproduces and compares with, in one place.

Ti et al. (2020) report their Table-1 network's 10-fold cross-validated
errors on OQMD; the other published composition models are quoted on the
OQMD test split used by CrabNet (Wang et al. 2021), which this package
bundles.
"""

__all__ = ["CITATION", "CITATION_BIBTEX", "ELEMNET_BIBTEX", "PAPER_ERRORS", "PAPER_ROWS", "PUBLISHED_TEST_MAE",
           "TABLE_1_LAYERS"]

#: The paper, as it should be cited.
CITATION = (
    "Ti Lei, Wu Sixuan, Li Bin, Shi Yuheng, Song Ziwan, Miao Zilong, Shi Zhixiang (2020). "
    "Application of Machine Learning in Material Property Prediction (in Chinese). "
    "Advances in Condensed Matter Physics 9(2), 11-19. doi:10.12677/cmp.2020.92002"
)

#: The same, as BibTeX (matminer's ``citations()`` format).
CITATION_BIBTEX = (
    "@article{ti2020application, title={Application of Machine Learning in Material Property Prediction}, "
    "author={Ti, Lei and Wu, Sixuan and Li, Bin and Shi, Yuheng and Song, Ziwan and Miao, Zilong and "
    "Shi, Zhixiang}, journal={Advances in Condensed Matter Physics}, volume={9}, number={2}, "
    "pages={11--19}, year={2020}, doi={10.12677/cmp.2020.92002}, note={in Chinese}}"
)

#: ElemNet, whose representation and network family the paper uses.
ELEMNET_BIBTEX = (
    "@article{jha2018elemnet, title={ElemNet: Deep Learning the Chemistry of Materials From Only Elemental "
    "Composition}, author={Jha, Dipendra and Ward, Logan and Paul, Arindam and Liao, Wei-keng and "
    "Choudhary, Alok and Wolverton, Chris and Agrawal, Ankit}, journal={Scientific Reports}, volume={8}, "
    "pages={17593}, year={2018}, doi={10.1038/s41598-018-35934-y}}"
)

#: Hidden layer widths of the paper's Table 1 (and ElemNet's first layers).
TABLE_1_LAYERS = (128, 128, 64, 64, 32)

#: Ti et al. (2020), 10-fold CV: MAE, and 80 % / 90 % of absolute errors below (eV/atom).
PAPER_ERRORS = {"mae": 0.075, "p80": 0.080, "p90": 0.180}

#: Compounds the paper trained on (all its data, Fig. 4).
PAPER_ROWS = 275_778

#: Test-split MAE (eV/atom) of published composition models on the bundled OQMD split.
PUBLISHED_TEST_MAE = {"CrabNet": 0.0311, "Roost": 0.0315, "ElemNet": 0.0489, "RF+Magpie": 0.0834}
