"""The rule every sender asks (crm_core.services.consent): granted consent, an address, and not on the
tenant's suppression list, for contacts as the API shows them."""

from __future__ import annotations

from crm_core.services import consent

from tests.support.client import ApiClient


def test_only_consenting_unsuppressed_contacts_may_be_emailed(client: ApiClient, other: ApiClient) -> None:
    def contact(email: str | None, state: str, **more: object) -> dict[str, object]:
        body = {"first_name": "C", "consent": {"email": state}, **more}
        return client.create("contacts", {**body, "email": email} if email else body)

    granted = contact("yes@consent.example", "granted")
    denied = contact("no@consent.example", "denied")
    unknown = contact("maybe@consent.example", "unknown")
    no_address = contact(None, "granted", last_name="Nomail")
    gone = contact("gone@consent.example", "granted")
    assert client.post(f"/v1/privacy/contacts/{gone['id']}/erase").status_code == 200
    back = contact("gone@consent.example", "granted")  # the erased address, given again: suppressed
    archived = contact("old@consent.example", "granted")
    assert client.delete(f"/v1/contacts/{archived['id']}").status_code == 204
    archived = client.get(f"/v1/contacts/{archived['id']}", params={"archived": "true"}).json()

    everyone = [granted, denied, unknown, no_address, back, archived]
    assert [c["id"] for c in consent.emailable(client.tenant_id, everyone)] == [granted["id"]]
    assert [consent.may_email(client.tenant_id, c) for c in everyone] == [True] + [False] * 5
    # another tenant's list is its own: the same address is not suppressed there
    there = other.create("contacts", {"email": "gone@consent.example", "consent": {"email": "granted"}})
    assert consent.may_email(other.tenant_id, there)
    assert consent.emailable(other.tenant_id, [there]) == [there]
