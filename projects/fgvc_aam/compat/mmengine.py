"""The private / internal names of mmengine we use (checked on 0.10.7)."""
from .guard import private  # noqa: F401

#: The mmengine releases these names were checked on.
CHECKED = '>=0.10.7,<=0.10.7'
