"""The Jupyter widget: FTLEView (traits and glue), its message protocol, overlays and export."""
