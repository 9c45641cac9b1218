export * from "./protocol";
export * from "./viewport";
export * from "./colormap";
