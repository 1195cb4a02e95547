"""银龄服务台 Silver Counter: the kiosk application package."""

__version__ = "0.1.0"
