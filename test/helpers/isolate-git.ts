/** Runs before every test file: git in tests never reads the developer's own config. */
import { ISOLATED_GIT_ENV } from './git-repo.js';

Object.assign(process.env, ISOLATED_GIT_ENV);
