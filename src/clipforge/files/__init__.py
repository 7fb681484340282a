"""Where finished videos live and how clients reach them."""
