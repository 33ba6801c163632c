"""Reply and free-text checks for medical secrecy, dignity and advertising (DOMAIN §5.4).

``check_text`` runs a French spaCy pipeline (``fr_core_news_md``) with patterns, lemmas,
morphology, named entities and word vectors; see ``engine.py`` (the rules' code) and
``patterns.py`` (their tables). Import it from ``cover.reply_check.engine`` (this package's
``__init__`` stays light).
"""
