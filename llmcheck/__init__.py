"""llmcheck: will this LFM2 / LFM2.5 model run here, at which quant and context, how fast."""

__version__ = "0.1.0"
