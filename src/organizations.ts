/**
 * `organizations list` and `organizations select`: the account's
 * organizations, and which one is active (the file's `org`, or PIPECAT_ORG).
 * The official CLI's commands of the same names, on the same file.
 */
import type {Organization} from './api/pipecat.js'
import type {Context} from './context.js'

import {readFirstLine} from './auth/stdin.js'
import {setActiveOrganization} from './config/document.js'
import {settingText} from './config/settings.js'
import {OrganizationError, UsageError} from './errors.js'
import {organizationLabel, printable} from './text.js'

export type OrganizationEntry = {
  active: boolean;
  name: string;
  verboseName: null | string;
}

export type OrganizationsReport = {
  /** The active organization's name (PIPECAT_ORG or the file's `org`); null when none is set. */
  active: null | string;
  organizations: OrganizationEntry[];
}

export type SelectResult = {
  configPath: string;
  organization: {name: string; verboseName: null | string};
  /** The file's `org` before; null when it had none. */
  previous: null | string;
}

export async function listOrganizations(context: Context): Promise<OrganizationsReport> {
  const {active, list} = await fetchOrganizations(context)
  if (list.length === 0) context.output.warn('This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.')
  else if (active && list.every(org => org.name !== active)) context.output.warn(`The active organization "${active}" is not among this account's organizations.`)
  return {
    active,
    organizations: list.map(org => ({active: org.name === active, name: org.name, verboseName: org.verboseName ?? null})),
  }
}

/**
 * Makes `name` the active organization, after checking the account has it.
 * Without a name it asks on a terminal; off one, that is a usage error,
 * raised before anything is sent. An unknown name changes nothing.
 */
export async function selectOrganization(context: Context, name: string | undefined): Promise<SelectResult> {
  if (!name && !context.stdin.isTTY) {
    throw new UsageError('No organization given, and there is no terminal to ask on.', {
      suggestion: command => `Name it: \`${command('cloud organizations select')} NAME\` (\`${command('cloud organizations list')}\` shows the names).`,
    })
  }

  const {active, list} = await fetchOrganizations(context)
  if (list.length === 0) {
    throw new OrganizationError('This account has no organization yet.', {suggestion: 'Finish the onboarding in the Pipecat Cloud dashboard, then try again.'})
  }

  const chosen = name ? list.find(org => org.name === name) : await ask(context, list, active)
  if (!chosen) {
    throw new OrganizationError(`"${printable(name ?? '')}" is not one of your organizations; nothing was changed.`, {
      suggestion: `Choose one of: ${list.map(org => org.name).join(', ')}.`,
    })
  }

  const {settings, store} = await context.loadConfig()
  const {previous} = await setActiveOrganization(store, chosen.name)
  if (settings.org.source === 'environment' && active !== chosen.name) {
    context.output.warn(`PIPECAT_ORG is set to "${active}", so commands keep using it instead. Unset it to use ${chosen.name}.`)
  }

  return {configPath: context.configPath, organization: {name: chosen.name, verboseName: chosen.verboseName ?? null}, previous: previous ?? null}
}

async function fetchOrganizations(context: Context): Promise<{active: null | string; list: Organization[]}> {
  const session = await context.session()
  const {settings} = await context.loadConfig()
  const list = await session.call(async token => session.api.organizations(token))
  return {active: settingText(settings, 'org') || null, list}
}

/** The choices, numbered, on stderr; the answer (a number or a name) from the terminal. */
async function ask(context: Context, list: Organization[], active: null | string): Promise<Organization> {
  const {output} = context
  output.notice('Your organizations:')
  for (const [index, org] of list.entries()) {
    output.notice(`  ${index + 1}) ${organizationLabel(org)}${org.name === active ? '  (active)' : ''}`)
  }

  output.notice(`Type the number (1-${list.length}) or the name of the organization to use, and press Enter:`)
  const answer = await readFirstLine(context.stdin, context.signal)
  if (!answer) throw new OrganizationError('No organization was chosen; nothing was changed.', {suggestion: command => `Run \`${command('cloud organizations select')}\` again.`})
  const chosen = /^\d+$/v.test(answer) ? list[Number(answer) - 1] : list.find(org => org.name === answer)
  if (!chosen) {
    throw new OrganizationError(`"${printable(answer)}" is not one of the choices; nothing was changed.`, {
      suggestion: command => `Run \`${command('cloud organizations select')}\` again and type a number from 1 to ${list.length}, or a name.`,
    })
  }

  return chosen
}

/** The list for people: name, display name, the active one marked. */
export function renderOrganizations(report: OrganizationsReport): string[] {
  if (report.organizations.length === 0) return []
  const rows = [['Name', 'Display name'], ...report.organizations.map(org => [org.name, org.verboseName ?? '(none)'])]
  const width = Math.max(...rows.map(([name]) => name!.length))
  const displayWidth = Math.max(...rows.map(([, display]) => display!.length))
  return rows.map(([name, display], index) => {
    const isActive = index > 0 && report.organizations[index - 1]!.active
    return `${name!.padEnd(width)}  ${isActive ? `${display!.padEnd(displayWidth)}  (active)` : display}`.trimEnd()
  })
}

export function renderSelect(result: SelectResult): string[] {
  return [`Active organization: ${organizationLabel(result.organization)}`, `Saved in ${result.configPath}`]
}
