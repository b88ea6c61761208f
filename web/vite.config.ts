import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the app with hot reload and sends the API's paths to a running `crm dev`.
const api = process.env.CRM_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/v1": api, "/openapi.json": api, "/config.json": api } },
  build: { target: "es2022", manifest: true },
});
