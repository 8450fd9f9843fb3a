"""fgvc_aam_tools: what our tools share, outside the method package.

Nothing here is named by a config, and importing this package imports
nothing: neither MMPretrain nor :mod:`projects.fgvc_aam`. Each module is
imported on its own by the tools that need it.
"""
