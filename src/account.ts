/** The account as the service describes it: its user and its organizations (one home for these shapes, used by every layer). */

export type Organization = {
  /** The namespace: what `org` in the config file holds. */
  name: string;
  /** The display name, when the service gives one. */
  verboseName?: string;
}

export type User = {
  email?: string;
  userId: string;
}

/** How the credentials were obtained: a browser sign-in (OAuth), a personal access token, or the earlier flow's token. */
export type AuthMethod = 'oauth' | 'personal-access-token' | 'token'

export const AUTH_METHODS: readonly AuthMethod[] = ['oauth', 'personal-access-token', 'token']
