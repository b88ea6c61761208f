import { Alert, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import type { UserPoolConfig } from "./config";
import type { PoolError, SignInStep } from "./userPool";
import { useSignIn } from "./useSignIn";

/** What the user reads for a refusal of the pool, by its error code. */
function poolMessage(error: PoolError): string {
  switch (error.code) {
    case "NotAuthorizedException":
      if (/disabled/i.test(error.message)) return "This account is deactivated. Ask your administrator.";
      if (/attempts exceeded/i.test(error.message)) return "Too many attempts. Wait a few minutes and try again.";
      if (/session is expired/i.test(error.message)) return "This sign-in took too long. Start again.";
      return "The email or password is incorrect.";
    case "UserNotFoundException":
      return "The email or password is incorrect.";
    case "PasswordResetRequiredException":
      return "Your password must be reset. Ask your administrator.";
    case "InvalidPasswordException":
      return error.message.replace(/^Password does not conform to policy: /, "The new password is too weak: ");
    case "CodeMismatchException":
    case "ExpiredCodeException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right, or has expired. Enter the current code from your app.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a few minutes and try again.";
    case "NetworkError":
      return "The sign-in service could not be reached. Check the connection and try again.";
    default:
      return error.message || "Sign-in failed. Try again.";
  }
}

function isPoolError(error: unknown): error is PoolError {
  return typeof error === "object" && error !== null && typeof (error as PoolError).code === "string";
}

const ASKED_AGAIN = new Set(["CodeMismatchException", "ExpiredCodeException", "InvalidPasswordException"]);

type Challenge = Exclude<SignInStep, { kind: "signed-in" }>;

/** Email and password against the user pool (SRP), then whatever it asks: a new password, an MFA code. */
export default function PasswordForm({
  pool,
  onSignedIn,
  submitLabel,
  autoFocus,
}: {
  pool: UserPoolConfig;
  onSignedIn: () => void;
  submitLabel: string;
  autoFocus: boolean;
}) {
  const signIn = useSignIn(onSignedIn);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [repeated, setRepeated] = useState("");
  const [code, setCode] = useState("");
  const [challenge, setChallenge] = useState<Challenge | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);

  // The SRP library is fetched once the user reaches for the password, not with the page.
  const loadLibrary = () => import("./userPool");

  async function advance(step: Promise<SignInStep>) {
    const next = await step;
    if (next.kind !== "signed-in") {
      setChallenge(next);
      return;
    }
    const checked = await signIn(next.tokens.idToken, next.tokens);
    if (!checked.ok) {
      setChallenge(null);
      setError(
        checked.status === 401 || checked.status === 403
          ? "You signed in, but the CRM refused this user: it may be deactivated. Ask your administrator."
          : `The CRM could not check the sign-in (${checked.status}). Try again.`,
      );
    }
  }

  async function run(validate: () => Record<string, string>, step: () => Promise<SignInStep>) {
    const errors = validate();
    setFieldErrors(errors);
    setError(null);
    if (Object.keys(errors).length) return;
    setWorking(true);
    try {
      await advance(step());
    } catch (caught) {
      if (!isPoolError(caught)) console.error("sign-in failed", caught);
      setError(isPoolError(caught) ? poolMessage(caught) : "The CRM could not be reached. Try again.");
      // A wrong code or a weak new password is asked again in the same sign-in; anything else starts over.
      if (!isPoolError(caught) || !ASKED_AGAIN.has(caught.code)) setChallenge(null);
    } finally {
      setWorking(false);
    }
  }

  function submitCredentials(event: FormEvent) {
    event.preventDefault();
    void run(
      () => ({
        ...(email.trim() ? {} : { email: "Enter your email." }),
        ...(password ? {} : { password: "Enter your password." }),
      }),
      async () => (await loadLibrary()).signIn(pool, email.trim(), password),
    );
  }

  function submitNewPassword(event: FormEvent) {
    event.preventDefault();
    if (challenge?.kind !== "new-password") return;
    void run(
      () => ({
        ...(newPassword ? {} : { newPassword: "Choose a new password." }),
        ...(newPassword && repeated !== newPassword ? { repeated: "The two passwords differ." } : {}),
      }),
      () => challenge.submit(newPassword),
    );
  }

  function submitCode(event: FormEvent) {
    event.preventDefault();
    if (challenge?.kind !== "mfa") return;
    const trimmed = code.replace(/\s/g, "");
    void run(
      (): Record<string, string> => (/^\d{6}$/.test(trimmed) ? {} : { code: "Enter the 6-digit code." }),
      () => challenge.submit(trimmed),
    );
  }

  const alert = error && (
    <Alert color="red" variant="light" role="alert" title="Not signed in">
      {error}
    </Alert>
  );

  if (challenge?.kind === "new-password") {
    return (
      <form onSubmit={submitNewPassword} noValidate>
        <Stack>
          <Text size="sm">This is your first sign-in: choose a password of your own to replace the one you were sent.</Text>
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            value={newPassword}
            onChange={(event) => setNewPassword(event.currentTarget.value)}
            error={fieldErrors.newPassword}
            data-autofocus
            autoFocus
          />
          <PasswordInput
            label="Repeat the new password"
            autoComplete="new-password"
            value={repeated}
            onChange={(event) => setRepeated(event.currentTarget.value)}
            error={fieldErrors.repeated}
          />
          {alert}
          <Button type="submit" loading={working}>
            Set password
          </Button>
        </Stack>
      </form>
    );
  }

  if (challenge?.kind === "mfa") {
    return (
      <form onSubmit={submitCode} noValidate>
        <Stack>
          <TextInput
            label="Authentication code"
            description="The 6-digit code your authenticator app shows for the CRM."
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(event) => setCode(event.currentTarget.value)}
            error={fieldErrors.code}
            data-autofocus
            autoFocus
          />
          {alert}
          <Button type="submit" loading={working}>
            Verify
          </Button>
        </Stack>
      </form>
    );
  }

  return (
    <form onSubmit={submitCredentials} noValidate>
      <Stack>
        <TextInput
          label="Email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(event) => setEmail(event.currentTarget.value)}
          error={fieldErrors.email}
          data-autofocus={autoFocus || undefined}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.currentTarget.value)}
          onFocus={() => void loadLibrary().catch(() => undefined)}
          error={fieldErrors.password}
        />
        {alert}
        <Button type="submit" loading={working}>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  );
}
