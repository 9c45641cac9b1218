"""The mathematics, headless (no Jupyter): endpoints, Jacobians, spectra, FTLEs, planes, fields."""
