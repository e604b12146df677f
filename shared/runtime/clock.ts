/**
 * The service's clock (epoch ms). `Date.now` in Lambda; the local registry's clock when run locally (`npm start`), so
 * that moving it (`POST /_local/clock`) ages images, pulls and allow-list entries alike.
 */
export type Clock = () => number;
