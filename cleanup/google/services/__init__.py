"""Google Business Profile services, by purpose: ``connection`` (OAuth, tokens, API access),
``reviews`` (review import and change detection), ``replies`` (drafts, checks, posting)."""
