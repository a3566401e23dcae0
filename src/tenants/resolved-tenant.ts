/** A tenant as the rest of Parley acts on it: the stored row, its opened credentials and its validated settings. */
import type { Tenant } from '../db/entities/tenant';
import type { TenantCredentials } from './tenant-credentials';
import type { SettingsProblem, StoredTenantSettings } from './tenant-settings';

export interface ResolvedTenant {
  tenant: Tenant;
  credentials: TenantCredentials;
  /** The validated settings to act on: invalid stored sections at their most restrictive value. */
  settings: StoredTenantSettings;
  /** The stored sections that were invalid, and what is used instead. */
  settingsProblems: SettingsProblem[];
}
