from .named_group_constructor import NamedGroupOptimWrapperConstructor

__all__ = ['NamedGroupOptimWrapperConstructor']
