from whimbrel.migration import *


def change():
    pass
