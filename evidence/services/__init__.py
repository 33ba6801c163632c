"""Writes for evidence, one module per purpose.

- ``provisioning``: the insurer's seal (given at onboarding, read by other apps to seal);
- ``requests``: capture requests (URL check, hourly and platform limits, queueing), re-captures;
- ``execution``: one attempt of a capture, from the browser to the sealed bundle in storage;
- ``custody``: the chain of custody of each capture, views and downloads;
- ``sharing``: expiring share links sent to one recipient;
- ``work_folders``: removal of the work folders of dead captures.
"""
