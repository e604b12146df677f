/** Style sheets imported by UI components; esbuild bundles them into the page's one style sheet. */
declare module '*.css';
