"""Sign-in with the tenant's user pool in the browser: SRP against the local pool (moto), the invited user's
new password, an authenticator code, a wrong password, sign-out; the app reads the pool from /config.json."""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest
from crm_core.auth import Role
from crm_core.services.tenants import create_user
from playwright.sync_api import Locator, Page, expect

from tests.support.client import ApiClient

TEMPORARY_PASSWORD = "Temporary-Pass-42!"
NEW_PASSWORD = "Chosen-Horse-Battery-7!"


def invite(client: ApiClient) -> str:
    """A rep invited into the client's tenant, holding the temporary password of the invitation.

    ``create_user`` makes the pool's user with a temporary password of the pool's choosing, mailed by AWS
    (locally the message is suppressed): the password is set again here, still temporary, so the test knows
    it. The user's status stays FORCE_CHANGE_PASSWORD, as after an invitation."""
    email = f"invited-{os.urandom(4).hex()}@acme.example"
    create_user(client.tenant_id, email, Role.REP, name="Ivy Invited")
    boto3.client("cognito-idp").admin_set_user_password(
        UserPoolId=os.environ["CRM_USER_POOL_ID"],
        Username=email,
        Password=TEMPORARY_PASSWORD,
        Permanent=False,
    )
    return email


def enter(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue").click()


def refusal(page: Page) -> Locator:
    return page.get_by_role("alert", name="Not signed in")


def test_an_invited_user_sets_a_password_and_sees_the_tenants_contacts(
    page: Page, base_url: str, client: ApiClient, other: ApiClient
) -> None:
    client.create("contacts", {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"})
    other.create("contacts", {"first_name": "Rita", "last_name": "Rival", "email": "rita@rival.example"})
    email = invite(client)

    page.goto(f"{base_url}/contacts")
    expect(page).to_have_url(f"{base_url}/sign-in")
    enter(page, email, TEMPORARY_PASSWORD)
    new_password = page.get_by_label("New password", exact=True)
    expect(new_password).to_be_visible()
    new_password.fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()

    expect(page).to_have_url(f"{base_url}/contacts")
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    expect(page.get_by_text("Rita Rival")).to_have_count(0)
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Ivy Invited")
    # The session's credential is the pool's ID token, which the API took as the invited user's.
    credential = page.evaluate("sessionStorage.getItem('crm.credential')")
    assert credential.count(".") == 2 and not credential.startswith("crm_")
    pool = boto3.client("cognito-idp")
    user = pool.admin_get_user(UserPoolId=os.environ["CRM_USER_POOL_ID"], Username=email)
    assert user["UserStatus"] == "CONFIRMED"

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/sign-in")
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{base_url}/contacts")
    expect(page).to_have_url(f"{base_url}/sign-in")

    # The temporary password is spent; the chosen one signs in with no further question.
    enter(page, email, TEMPORARY_PASSWORD)
    expect(refusal(page)).to_contain_text("The email or password is incorrect.")
    expect(page).to_have_url(f"{base_url}/sign-in")
    enter(page, email, NEW_PASSWORD)
    expect(page).to_have_url(f"{base_url}/contacts")
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()


def test_a_wrong_password_is_said_plainly(page: Page, base_url: str, client: ApiClient) -> None:
    email = invite(client)
    page.goto(f"{base_url}/sign-in")
    enter(page, email, "Not-The-Password-1!")
    alert = refusal(page)
    expect(alert).to_contain_text("The email or password is incorrect.")
    expect(page).to_have_url(f"{base_url}/sign-in")
    # Nobody of that email either: the same words, nothing said of who exists.
    enter(page, f"nobody-{os.urandom(4).hex()}@acme.example", "Not-The-Password-1!")
    expect(alert).to_contain_text("The email or password is incorrect.")
    assert page.evaluate("sessionStorage.getItem('crm.credential')") is None


def test_a_user_with_an_authenticator_app_enters_its_code(
    page: Page, base_url: str, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.cognitoidp.utils import cognito_totp

    email = invite(client)
    pool = boto3.client("cognito-idp")
    pool_id, client_id = os.environ["CRM_USER_POOL_ID"], os.environ["CRM_USER_POOL_CLIENT_ID"]
    pool.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=NEW_PASSWORD, Permanent=True)
    access_token = pool.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": NEW_PASSWORD},
    )["AuthenticationResult"]["AccessToken"]
    secret = pool.associate_software_token(AccessToken=access_token)["SecretCode"]
    authenticator = cognito_totp(secret)
    # The local pool takes any code here: the user's authenticator app is set up.
    pool.verify_software_token(AccessToken=access_token, UserCode="123456")
    pool.admin_set_user_mfa_preference(
        UserPoolId=pool_id,
        Username=email,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    # From here the local pool checks the codes against its authenticator secret (it takes any by default).
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")

    page.goto(f"{base_url}/sign-in")
    enter(page, email, NEW_PASSWORD)
    code = page.get_by_label("Authentication code")
    expect(code).to_be_visible()
    right = authenticator.generate(time.time()).decode()
    code.fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(refusal(page)).to_contain_text("That code is not right")
    code.fill(authenticator.generate(time.time()).decode())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{base_url}/contacts")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Ivy Invited")


def test_the_id_token_is_refreshed_before_it_expires_and_sign_out_revokes_the_refresh_token(
    page: Page, base_url: str, client: ApiClient
) -> None:
    email = invite(client)
    pool = boto3.client("cognito-idp")
    pool_id, client_id = os.environ["CRM_USER_POOL_ID"], os.environ["CRM_USER_POOL_CLIENT_ID"]
    pool.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=NEW_PASSWORD, Permanent=True)
    page.goto(f"{base_url}/sign-in")
    enter(page, email, NEW_PASSWORD)
    expect(page).to_have_url(f"{base_url}/contacts")
    tokens = json.loads(page.evaluate("sessionStorage.getItem('crm.pool-tokens')"))
    assert tokens["idToken"] == page.evaluate("sessionStorage.getItem('crm.credential')")
    assert tokens["expiresAt"] / 1000 > time.time() + 50 * 60  # the pool's ID tokens live an hour

    # The token is about to expire when the tab is opened again: it is refreshed first.
    page.evaluate(
        "(soon) => { const t = JSON.parse(sessionStorage.getItem('crm.pool-tokens'));"
        " t.expiresAt = soon; sessionStorage.setItem('crm.pool-tokens', JSON.stringify(t)); }",
        time.time() * 1000 + 60_000,
    )
    with page.expect_request(lambda r: "REFRESH_TOKEN_AUTH" in (r.post_data or "")) as refresh:
        page.reload()
    assert refresh.value.headers.get("x-amz-target", "").endswith("InitiateAuth")
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("Ivy Invited")
    page.wait_for_function(
        "(before) => JSON.parse(sessionStorage.getItem('crm.pool-tokens')).expiresAt > before",
        arg=time.time() * 1000 + 50 * 60_000,
    )
    refreshed = json.loads(page.evaluate("sessionStorage.getItem('crm.pool-tokens')"))
    assert refreshed["refreshToken"] == tokens["refreshToken"]
    assert page.evaluate("sessionStorage.getItem('crm.credential')") == refreshed["idToken"]

    # Sign-out ends the pool session too: the refresh token no longer works, wherever a copy of it is.
    with page.expect_request(lambda r: r.headers.get("x-amz-target", "").endswith("GlobalSignOut")):
        page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base_url}/sign-in")

    def refused() -> bool:
        try:
            pool.initiate_auth(
                ClientId=client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": tokens["refreshToken"]},
            )
        except pool.exceptions.NotAuthorizedException:
            return True
        return False

    deadline = time.time() + 10
    while not refused() and time.time() < deadline:
        time.sleep(0.2)
    assert refused()
