"""Microsoft Project connector: the PWA REST API of Project Server Subscription Edition and of
Project Online (until its retirement), with Entra sign-in through msal.

Modules: ``auth`` (msal / NTLM), ``transport`` (the policy-carrying session), ``odata``
(payload parsing), ``client`` (HTTP calls, paging, queue jobs), ``customfields`` and
``mapper`` (pure conversions), ``connector`` (the Connector protocol), ``discover``.
"""

from __future__ import annotations
