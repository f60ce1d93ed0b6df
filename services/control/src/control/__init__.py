"""control: correlates order submissions with payments and decides, once per order, whether
the order is ready (``order-ready``) or timed out (``order-payment-timeout``). See the
service's README.md."""
