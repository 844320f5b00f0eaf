// Lint rules: typescript-eslint's recommended set, plus the layering rule of ARCHITECTURE.md
// (imports point down only), enforced per folder with no-restricted-imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (folder, forbidden) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/**`, `../${f}/*`, `../../${f}/*`, `../../../${f}/*`],
          message: `${folder}/ may not import ${f}/ (ARCHITECTURE.md: imports point down only).`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/thirdparty/**', 'bench/results/**', 'dist/**', 'tmp/**', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer('hal', ['firmware-ts', 'devices', 'ledger', 'v2x', 'sim-hardware', 'bench']),
  layer('ledger', ['firmware-ts', 'devices', 'v2x', 'sim-hardware', 'bench']),
  layer('devices', ['firmware-ts', 'ledger', 'v2x', 'sim-hardware', 'bench']),
  layer('v2x', ['firmware-ts', 'devices', 'sim-hardware', 'bench']),
  layer('sim-hardware', ['firmware-ts', 'ledger', 'v2x', 'bench']),
);
