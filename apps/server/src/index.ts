/** @samtune/server: HTTP API and labelling page for samtune models: composes the samtune packages. */
export const PACKAGE_NAME = '@samtune/server';
