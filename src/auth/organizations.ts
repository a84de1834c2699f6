/**
 * `organizations list` and `organizations select`: the account's
 * organizations, and which one is active (the file's `org`, or PIPECAT_ORG).
 * The official CLI's commands of the same names, on the same file.
 */
import type {Organization} from '../account.js'
import type {ConfigStore} from '../config/file.js'
import type {Context, FlowResult} from '../context.js'

import {type ConfigData, isTable} from '../config/data.js'
import {isReservedKey} from '../config/document.js'
import {settingText} from '../config/settings.js'
import {OrganizationError, UsageError} from '../errors.js'
import {organizationLabel, printable} from '../text.js'
import {readFirstLine} from './stdin.js'

export type OrganizationEntry = {
  active: boolean;
  name: string;
  verboseName: null | string;
}

export type OrganizationsReport = FlowResult & {
  /** The active organization's name (PIPECAT_ORG or the file's `org`); null when none is set. */
  active: null | string;
  organizations: OrganizationEntry[];
}

export type SelectResult = FlowResult & {
  configPath: string;
  organization: {name: string; verboseName: null | string};
  /** The file's `org` before; null when it had none. */
  previous: null | string;
}

export async function listOrganizations(context: Context): Promise<OrganizationsReport> {
  const {active, list} = await fetchOrganizations(context)
  const warnings: string[] = []
  if (list.length === 0) {
    warnings.push('This account has no organization yet; finish the onboarding in the Pipecat Cloud dashboard.')
  } else if (active && list.every(org => org.name !== active)) {
    warnings.push(`The active organization "${active}" is not among this account's organizations.`)
  }

  return {
    active,
    organizations: list.map(org => ({active: org.name === active, name: org.name, verboseName: org.verboseName ?? null})),
    warnings,
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
      suggestion: command =>
        `Name it: \`${command('cloud organizations select')} NAME\` (\`${command('cloud organizations list')}\` shows the names).`,
    })
  }

  const {active, list} = await fetchOrganizations(context)
  if (list.length === 0) {
    throw new OrganizationError('This account has no organization yet.', {
      suggestion: 'Finish the onboarding in the Pipecat Cloud dashboard, then try again.',
    })
  }

  const chosen = name ? list.find(org => org.name === name) : await ask(context, list, active)
  if (!chosen) {
    throw new OrganizationError(`"${printable(name ?? '')}" is not one of your organizations; nothing was changed.`, {
      suggestion: `Choose one of: ${list.map(org => org.name).join(', ')}.`,
    })
  }

  const {settings, store} = await context.loadConfig()
  const previous = await setActiveOrganization(store, chosen.name)
  const warnings = settings.org.source === 'environment' && active !== chosen.name
    ? [`PIPECAT_ORG is set to "${active}", so commands keep using it instead. Unset it to use ${chosen.name}.`]
    : []
  return {
    configPath: context.configPath, organization: {name: chosen.name, verboseName: chosen.verboseName ?? null}, previous, warnings,
  }
}

/**
 * Under the lock: `org` set to `name`, with a table of its own when it has
 * none, as the official CLI's update_user_config does; everything else stays.
 * Returns the `org` it replaced.
 */
async function setActiveOrganization(store: ConfigStore, name: string): Promise<null | string> {
  return store.update(({data}) => {
    const next: ConfigData = {...data, org: name}
    if (!isReservedKey(name) && !isTable(next[name])) next[name] = {}
    return {data: next, result: typeof data.org === 'string' ? data.org : null}
  })
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
  if (!answer) {
    throw new OrganizationError('No organization was chosen; nothing was changed.', {
      suggestion: command => `Run \`${command('cloud organizations select')}\` again.`,
    })
  }

  const chosen = /^\d+$/v.test(answer) ? list[Number(answer) - 1] : list.find(org => org.name === answer)
  if (!chosen) {
    throw new OrganizationError(`"${printable(answer)}" is not one of the choices; nothing was changed.`, {
      suggestion: command =>
        `Run \`${command('cloud organizations select')}\` again and type a number from 1 to ${list.length}, or a name.`,
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
