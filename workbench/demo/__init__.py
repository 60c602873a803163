"""The demo governance repo: the article's credit chain and the insurer's claims agent."""
