import { useSyncExternalStore } from "react";

/** What `/config.json` (written by CDK next to the app, served by `crm dev` locally) tells the app. */
export interface WebConfig {
  user_pool_id?: string;
  client_id?: string;
  region?: string;
  // Locally the browser talks to the local AWS endpoint directly; in AWS the regional Cognito endpoint.
  cognito_endpoint?: string;
  api_key_sign_in: boolean;
}

/** The user pool the app signs users in with, when config.json names one. */
export interface UserPoolConfig {
  userPoolId: string;
  clientId: string;
  region: string;
  endpoint?: string;
}

export type ConfigState =
  | { status: "loading" }
  | { status: "loaded"; config: WebConfig }
  // Without the file the app still offers the API key: the API takes one wherever it runs.
  | { status: "failed"; config: WebConfig };

const FALLBACK: WebConfig = { api_key_sign_in: true };

let state: ConfigState = { status: "loading" };
const listeners = new Set<() => void>();

async function fetchConfig(): Promise<WebConfig> {
  try {
    const response = await fetch("/config.json", { headers: { Accept: "application/json" }, cache: "no-cache" });
    if (!response.ok) throw new Error(`config.json: ${response.status}`);
    const config = (await response.json()) as WebConfig;
    state = { status: "loaded", config: { ...config, api_key_sign_in: config.api_key_sign_in === true } };
  } catch {
    state = { status: "failed", config: FALLBACK };
  }
  listeners.forEach((listener) => listener());
  return state.config;
}

let loading: Promise<WebConfig> | undefined;

/** The config, fetched once per page load (the first call starts it). */
export function loadConfig(): Promise<WebConfig> {
  loading ??= fetchConfig();
  return loading;
}

export function userPoolOf(config: WebConfig): UserPoolConfig | null {
  if (!config.user_pool_id || !config.client_id) return null;
  return {
    userPoolId: config.user_pool_id,
    clientId: config.client_id,
    // A pool's ID starts with its region ("eu-west-1_AbC"), so a config without one still works.
    region: config.region ?? config.user_pool_id.split("_")[0]!,
    endpoint: config.cognito_endpoint || undefined,
  };
}

export function useWebConfig(): ConfigState {
  void loadConfig();
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}
