/** Types of scripts/colormaps.mjs, for the tests that import it. */
export const SOURCES: Record<string, (t: number) => string>;
export function tables(): Record<string, string[]>;
export function text(): string;
