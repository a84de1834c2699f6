/** Which groups count as their owner's private group (Debian OpenSSH's rule), over every shape of membership. */
import {expect} from 'chai'

import {isPrivateGroup} from '../../src/config/private-group.js'

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'ada:x:1000:1000:Ada:/home/ada:/bin/bash',
  'bob:x:1001:1001:Bob:/home/bob:/bin/bash',
  'carol:x:1002:100:Carol:/home/carol:/bin/bash',
  'dave:x:1003:100:Dave:/home/dave:/bin/bash',
  'eve:x:1004:2000:Eve:/home/eve:/bin/bash',
].join('\n')

const GROUP = [
  'root:x:0:',
  'ada:x:1000:',
  'bob:x:1001:ada',
  'users:x:100:',
  'devs:x:1500:ada',
  'shared:x:1600:ada,bob',
  'empty:x:1700:',
  'eve:x:2000:',
].join('\n')

const files = {group: GROUP, passwd: PASSWD}

describe('isPrivateGroup: a group whose only member is the owner', () => {
  const cases: Array<[string, number, number, boolean]> = [
    ['the owner\'s own primary group, no listed members', 1000, 1000, true],
    ['root\'s group, for a file root owns', 0, 0, true],
    ['a group listing only the owner, nobody\'s primary group', 1500, 1000, true],
    ['another user\'s primary group that lists the owner', 1001, 1000, false],
    ['a group two users have as primary group', 100, 1002, false],
    ['a group listing the owner and another user', 1600, 1000, false],
    ['a group with no member at all', 1700, 1000, false],
    ['another user\'s private group', 2000, 1000, false],
    ['a group that is not in the database', 4242, 1000, false],
    ['an owner who is not in the database', 1000, 4242, false],
  ]
  for (const [what, gid, uid, expected] of cases) {
    it(`${what}: ${expected ? 'private' : 'not private'}`, () => {
      expect(isPrivateGroup(gid, uid, files)).to.equal(expected)
    })
  }

  it('without the databases, nothing is private', () => {
    expect(isPrivateGroup(1000, 1000, null)).to.equal(false)
  })
})
