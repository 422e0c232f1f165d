"""interp: live speech captions and translation for multilingual assemblies, on premises."""

__version__ = "0.1.0"
__all__ = ["__version__"]
