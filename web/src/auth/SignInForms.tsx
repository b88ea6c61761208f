import { Button, Center, Divider, Loader, PasswordInput, Stack, Text } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useSession } from "../session";
import { userPoolOf, useWebConfig } from "./config";
import PasswordForm from "./PasswordForm";
import { useSignIn } from "./useSignIn";

const loading = (
  <Center py="md">
    <Loader size="sm" role="status" aria-label="Loading sign-in" />
  </Center>
);

/** The API key form. */
function ApiKeyForm({ onSignedIn, autoFocus }: { onSignedIn: () => void; autoFocus: boolean }) {
  const signIn = useSignIn(onSignedIn);
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const credential = key.trim();
    if (!credential) {
      setError("Enter your API key.");
      return;
    }
    setChecking(true);
    setError(null);
    try {
      const checked = await signIn(credential);
      if (checked.ok) return;
      if (checked.status === 401 || checked.status === 403) {
        setError("This API key was not accepted: it may be mistyped, revoked or expired.");
      } else {
        setError(`The CRM could not check the key (${checked.status}). Try again.`);
      }
    } catch {
      setError("The CRM could not be reached. Check the connection and try again.");
    } finally {
      setChecking(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <PasswordInput
          label="API key"
          description="Locally, `crm tenant create` prints one."
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.currentTarget.value)}
          error={error}
          data-autofocus={autoFocus || undefined}
        />
        <Button type="submit" loading={checking}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

/** The ways to sign in that config.json allows: the user pool's email and password, an API key, or both. */
export default function SignInForms({ onSignedIn }: { onSignedIn: () => void }) {
  const config = useWebConfig();
  const { expired, expiredMethod: method } = useSession();
  const expiredMethod = expired ? method : undefined;
  if (config.status === "loading") return loading;
  const configured = userPoolOf(config.config);
  // After a session expired, the way it had signed in (and nothing else) is asked for again.
  const pool = expiredMethod === "api-key" ? null : configured;
  const withKey = !pool || (expiredMethod !== "password" && config.config.api_key_sign_in);
  return (
    <Stack>
      {pool && (
        // With the key form beside it, "Sign in" names the key's button alone.
        <PasswordForm pool={pool} onSignedIn={onSignedIn} submitLabel={withKey ? "Continue" : "Sign in"} autoFocus />
      )}
      {pool && withKey && <Divider label="or with an API key" labelPosition="center" />}
      {withKey && <ApiKeyForm onSignedIn={onSignedIn} autoFocus={!pool} />}
      {config.status === "failed" && (
        <Text size="sm" c="dimmed">
          Sign-in with a password is unavailable: the app&apos;s settings (config.json) could not be loaded.
        </Text>
      )}
    </Stack>
  );
}
