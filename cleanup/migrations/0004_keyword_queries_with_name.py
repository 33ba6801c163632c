"""Keyword watches are searched with the doctor's name: recompute every profile's queries.

A keyword alone (« escroc ») searched the whole web. From now on each keyword goes with the
doctor's main name and the practice name (``cleanup.services.watch_queries``); this applies it to
the profiles saved before. Bare keyword queries are deactivated, not deleted: their rank history
stays. The logic is copied here, as migrations must not import code that may change.
"""

from django.db import migrations


def _clean(values):
    seen = {}
    for value in values:
        text = " ".join(str(value).split())
        if text and text.casefold() not in {k.casefold() for k in seen}:
            seen[text] = None
    return list(seen)


def _wanted(profile):
    names = [f'"{v}"' for v in _clean(profile.name_variants)]
    practice = f'"{profile.practice_name.strip()}"' if profile.practice_name.strip() else ""
    anchors = [*names[:1], *([practice] if practice else [])]
    queries = [*names, *([practice] if practice else [])]
    for keyword in _clean(profile.keywords):
        queries.extend(f"{anchor} {keyword}" for anchor in anchors)
    return _clean(queries)


def queries_recompute(apps, schema_editor):
    WatchProfile = apps.get_model("cleanup", "WatchProfile")
    SearchQuery = apps.get_model("cleanup", "SearchQuery")
    for profile in WatchProfile.objects.all():
        wanted = _wanted(profile)
        existing = {q.text: q for q in SearchQuery.objects.filter(profile=profile)}
        for text, query in existing.items():
            active = text in wanted
            if query.active != active:
                query.active = active
                query.save(update_fields=["active"])
        for text in wanted:
            if text not in existing:
                SearchQuery.objects.create(profile=profile, text=text)


class Migration(migrations.Migration):
    dependencies = [("cleanup", "0003_alert_trust")]

    operations = [migrations.RunPython(queries_recompute, migrations.RunPython.noop)]
