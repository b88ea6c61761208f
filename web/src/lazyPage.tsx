import { Center, Loader } from "@mantine/core";
import { Suspense, lazy, type ComponentType, type ReactNode } from "react";

/** A page in a chunk of its own, loaded on first use; once loaded it renders at once. React.lazy suspends
 * at least once even on a chunk already loaded, and React reveals what suspended no sooner than 300 ms
 * after its fallback showed: the first page, loaded beside the app (preloadFirstPage), would wait that. */
export function lazyPage<Module extends { default: ComponentType }>(load: () => Promise<Module>) {
  let loaded: ComponentType | undefined;
  const preload = () =>
    load().then((module) => {
      loaded = module.default;
      return module;
    });
  const Lazy = lazy(preload);
  const LazyPage = () => {
    const Loaded = loaded;
    return Loaded ? <Loaded /> : <Lazy />;
  };
  return Object.assign(LazyPage, { preload });
}

/** Where a lazy page shows while its chunk loads. */
export function Page({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Center py="xl">
          <Loader role="status" aria-label="Loading" />
        </Center>
      }
    >
      {children}
    </Suspense>
  );
}
