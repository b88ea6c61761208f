"""Sign-in for the web app: one Cognito user pool, its groups (the CRM roles) and the web client."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from crm_core.auth import Role
from crm_core.definitions import USER_POOL

from infra.nag import acknowledge


class CrmAuth(Construct):
    """Users sign in with their email; the tenant is fixed at creation and the role is a group."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Users are invited by a tenant's admin (the CRM's users API), never self-registered: the
            # tenant attribute must come from the CRM, not from the person signing up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True),
            ),
            # custom:tenant_id and custom:user_id in the ID token, set by the CRM when it invites a user.
            custom_attributes={
                name: cognito.StringAttribute(min_len=1, max_len=64, mutable=False)
                for name in USER_POOL.custom_attributes
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(7),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.groups: dict[str, cognito.UserPoolGroup] = {}
        for precedence, role in enumerate(Role):
            self.groups[role.value] = self.user_pool.add_group(
                f"Group{role.name.title()}",
                group_name=role.value,
                description=f"CRM role '{role.value}'",
                precedence=precedence,  # a user in several groups gets the most privileged role
            )

        # The web app is a public client (a single-page app cannot keep a secret): SRP sign-in only, no
        # hosted UI, and the tenant attribute is readable but never writable by the user.
        self.web_client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name="crm-web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True, fullname=True)
            .with_custom_attributes(*USER_POOL.custom_attributes),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
        )

        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA (TOTP) is offered to every user but not forced: each tenant decides whether its users must "
            "enrol, and machine access uses API keys, not the user pool.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG3",
            "Threat protection (advanced security) is billed per monthly active user; the pay-per-use "
            "default is the Essentials feature plan. An operator who wants it switches the plan to Plus.",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG8",
            "The Plus feature plan is billed per monthly active user; the pay-per-use default is the "
            "Essentials plan, which an operator can upgrade.",
        )
