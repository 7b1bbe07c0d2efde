"""Back-in-stock requests: a shopper asks to be told, once, when a product is back at a store."""
