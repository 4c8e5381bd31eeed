// ESLint for the browser scripts: plain ES modules, no build step (`make lint`, CI).
import js from "@eslint/js";
import globals from "globals";

// Markup is rendered once, by the server's template partials; scripts fetch or clone it.
// Only common.js makes elements (its small `element` and `fragmentFrom` helpers).
const MARKUP_BUILDING = [
  {
    selector: "CallExpression[callee.property.name=/^createElement(NS)?$/]",
    message: "Render markup in a template partial (or use common.js's helpers).",
  },
  {
    selector: "MemberExpression[property.name=/^(innerHTML|outerHTML)$/]",
    message: "Render markup in a template partial (or use common.js's fragmentFrom).",
  },
  {
    selector: "CallExpression[callee.property.name='insertAdjacentHTML']",
    message: "Render markup in a template partial (or use common.js's fragmentFrom).",
  },
];

export default [
  { ignores: ["static/vendor/**", "staticfiles/**", "node_modules/**"] },
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      ...js.configs.recommended.rules,
      "no-restricted-syntax": ["error", ...MARKUP_BUILDING],
    },
  },
  {
    files: ["static/js/common.js"],
    rules: { "no-restricted-syntax": "off" },
  },
];
