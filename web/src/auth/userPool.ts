// The user pool sign-in (SRP, its challenges, refresh and global sign-out) through amazon-cognito-identity-js.
// This module and the library load only when someone signs in with a password (or a password session is
// refreshed or ended): an API key session never downloads them.
import "./nodeGlobal";
import {
  AuthenticationDetails,
  CognitoAccessToken,
  CognitoIdToken,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserPool,
  CognitoUserSession,
  type ICognitoStorage,
  type IAuthenticationCallback,
} from "amazon-cognito-identity-js";
import type { PoolTokens } from "../session";
import type { UserPoolConfig } from "./config";

/** Where a sign-in stands: done, or waiting for the user to answer a challenge of the pool. */
export type SignInStep =
  | { kind: "signed-in"; tokens: PoolTokens }
  | { kind: "new-password"; submit: (newPassword: string) => Promise<SignInStep> }
  | { kind: "mfa"; submit: (code: string) => Promise<SignInStep> };

/** A refusal of the pool (or of the network), with the pool's error code: "NotAuthorizedException", ... */
export class PoolError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

// The library caches tokens in a storage of its own (localStorage by default); the session keeps them
// instead (sessionStorage), so the library's copy lives in memory and goes with the page.
const memory = new Map<string, string>();
const storage: ICognitoStorage = {
  setItem: (key, value) => void memory.set(key, value),
  getItem: (key) => memory.get(key) ?? null,
  removeItem: (key) => void memory.delete(key),
  clear: () => memory.clear(),
};

const pools = new Map<string, CognitoUserPool>();

function poolOf(config: UserPoolConfig): CognitoUserPool {
  const key = `${config.userPoolId}/${config.clientId}/${config.endpoint ?? ""}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.clientId,
      endpoint: config.endpoint,
      Storage: storage,
    });
    pools.set(key, pool);
  }
  return pool;
}

function toPoolError(error: unknown): PoolError {
  if (error instanceof PoolError) return error;
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  return new PoolError(code ?? name ?? "Error", message ?? String(error));
}

function tokensOf(user: CognitoUser, session: CognitoUserSession): PoolTokens {
  const id = session.getIdToken();
  // The token's own lifetime, counted on this machine's clock: a skewed clock does not shorten or
  // stretch the session.
  const lifetimeMs = (id.getExpiration() - id.getIssuedAt()) * 1000;
  return {
    idToken: id.getJwtToken(),
    accessToken: session.getAccessToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
    username: user.getUsername(),
    expiresAt: Date.now() + lifetimeMs,
  };
}

/** The callbacks of one round trip with the pool, settling ``resolve`` with the step that follows it. */
function callbacks(
  user: CognitoUser,
  resolve: (step: SignInStep) => void,
  reject: (error: PoolError) => void,
): IAuthenticationCallback {
  const next = (run: (answer: IAuthenticationCallback) => void) =>
    new Promise<SignInStep>((res, rej) => run(callbacks(user, res, rej)));
  return {
    onSuccess: (session) => resolve({ kind: "signed-in", tokens: tokensOf(user, session) }),
    onFailure: (error) => reject(toPoolError(error)),
    // An invited user's first sign-in: the temporary password must be replaced. No attribute is sent
    // back: the CRM set them all at the invitation, and email_verified is not the user's to write.
    newPasswordRequired: () =>
      resolve({
        kind: "new-password",
        submit: (newPassword) => next((answer) => user.completeNewPasswordChallenge(newPassword, {}, answer)),
      }),
    totpRequired: (challengeName) =>
      resolve({
        kind: "mfa",
        submit: (code) => next((answer) => user.sendMFACode(code, answer, challengeName)),
      }),
    mfaRequired: (challengeName) =>
      resolve({
        kind: "mfa",
        submit: (code) => next((answer) => user.sendMFACode(code, answer, challengeName)),
      }),
    mfaSetup: () =>
      reject(
        new PoolError(
          "MFASetupRequired",
          "Your account must set up an authenticator app before signing in; ask your administrator.",
        ),
      ),
    customChallenge: () =>
      reject(new PoolError("CustomChallenge", "This sign-in asks for a step the web app does not support.")),
  };
}

/** Starts an SRP sign-in (USER_SRP_AUTH, then PASSWORD_VERIFIER): the password never leaves the page. */
export function signIn(config: UserPoolConfig, email: string, password: string): Promise<SignInStep> {
  const user = new CognitoUser({ Username: email, Pool: poolOf(config), Storage: storage });
  user.setAuthenticationFlowType("USER_SRP_AUTH");
  const details = new AuthenticationDetails({ Username: email, Password: password });
  return new Promise((resolve, reject) => user.authenticateUser(details, callbacks(user, resolve, reject)));
}

/** New ID and access tokens for the refresh token (REFRESH_TOKEN_AUTH). */
export function refresh(config: UserPoolConfig, tokens: PoolTokens): Promise<PoolTokens> {
  const user = new CognitoUser({ Username: tokens.username, Pool: poolOf(config), Storage: storage });
  return new Promise((resolve, reject) =>
    user.refreshSession(
      new CognitoRefreshToken({ RefreshToken: tokens.refreshToken }),
      (error: unknown, session?: CognitoUserSession) =>
        error || !session ? reject(toPoolError(error)) : resolve(tokensOf(user, session)),
    ),
  );
}

/** Revokes every refresh token of the user (GlobalSignOut): a copied one no longer works. */
export function globalSignOut(config: UserPoolConfig, tokens: PoolTokens): Promise<void> {
  const user = new CognitoUser({ Username: tokens.username, Pool: poolOf(config), Storage: storage });
  user.setSignInUserSession(
    new CognitoUserSession({
      IdToken: new CognitoIdToken({ IdToken: tokens.idToken }),
      AccessToken: new CognitoAccessToken({ AccessToken: tokens.accessToken }),
      RefreshToken: new CognitoRefreshToken({ RefreshToken: tokens.refreshToken }),
    }),
  );
  return new Promise((resolve, reject) =>
    user.globalSignOut({ onSuccess: () => resolve(), onFailure: (error) => reject(toPoolError(error)) }),
  );
}
