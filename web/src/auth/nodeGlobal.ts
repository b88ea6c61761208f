// amazon-cognito-identity-js bundles the `buffer` package, which reads Node's `global` as it loads;
// browsers name it `globalThis`. Imported before the library, in the library's own chunk only.
(globalThis as { global?: typeof globalThis }).global ??= globalThis;
