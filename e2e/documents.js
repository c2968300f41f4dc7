// The operations the browser tests send themselves, for fixtures and for checking what the
// console did: literal text, like console/static/documents.js, because the suite runs Herald with
// HERALD_TRUSTED_DOCUMENTS_STRICT, where only listed documents run. console/e2e_test.go lists these
// beside the console's own.

export const CREATE_CONTACT = `mutation($input: CreateContactInput!) { createContact(input: $input) { id name } }`;

export const CREATE_GROUP = `mutation($name: String!) { createContactGroup(input: {name: $name}) { id } }`;

export const CONTACT_WEBHOOKS = `query($s: String) { contacts(filter: {search: $s}) { edges { node { webhooks { url hasSecret keyword } } } } }`;

export const TOKEN_NAMES = `query TokenNames { apiTokens { name } }`;

export const CREATE_NAMESPACE = `mutation($name: String!) { createNamespace(input: {name: $name}) { id name } }`;

export const DELETE_NAMESPACE = `mutation($id: ID!) { deleteNamespace(id: $id) }`;

export const CREATE_TEMPLATE = `mutation($input: MessageTemplateInput!) { createMessageTemplate(input: $input) { id name } }`;

export const BUILTIN_TEMPLATES = `query { builtinMessageTemplates { id name title body format } }`;

export const SEND_ALERT = `mutation($input: SendAlertInput!) { sendAlert(input: $input) { id } }`;

export const CONTACT_USER_IDS = `query($s: String) { contacts(filter: {search: $s}) { edges { node { dingtalkUserId wecomUserId larkUserId } } } }`;

// 25 contacts in one request (Herald allows 30 aliases), to seed a large namespace quickly.
export const SEED_CONTACTS = `mutation SeedContacts(
  $c0: CreateContactInput!, $c1: CreateContactInput!, $c2: CreateContactInput!, $c3: CreateContactInput!, $c4: CreateContactInput!,
  $c5: CreateContactInput!, $c6: CreateContactInput!, $c7: CreateContactInput!, $c8: CreateContactInput!, $c9: CreateContactInput!,
  $c10: CreateContactInput!, $c11: CreateContactInput!, $c12: CreateContactInput!, $c13: CreateContactInput!, $c14: CreateContactInput!,
  $c15: CreateContactInput!, $c16: CreateContactInput!, $c17: CreateContactInput!, $c18: CreateContactInput!, $c19: CreateContactInput!,
  $c20: CreateContactInput!, $c21: CreateContactInput!, $c22: CreateContactInput!, $c23: CreateContactInput!, $c24: CreateContactInput!
) {
  c0: createContact(input: $c0) { id } c1: createContact(input: $c1) { id } c2: createContact(input: $c2) { id } c3: createContact(input: $c3) { id } c4: createContact(input: $c4) { id }
  c5: createContact(input: $c5) { id } c6: createContact(input: $c6) { id } c7: createContact(input: $c7) { id } c8: createContact(input: $c8) { id } c9: createContact(input: $c9) { id }
  c10: createContact(input: $c10) { id } c11: createContact(input: $c11) { id } c12: createContact(input: $c12) { id } c13: createContact(input: $c13) { id } c14: createContact(input: $c14) { id }
  c15: createContact(input: $c15) { id } c16: createContact(input: $c16) { id } c17: createContact(input: $c17) { id } c18: createContact(input: $c18) { id } c19: createContact(input: $c19) { id }
  c20: createContact(input: $c20) { id } c21: createContact(input: $c21) { id } c22: createContact(input: $c22) { id } c23: createContact(input: $c23) { id } c24: createContact(input: $c24) { id }
}`;

// live.test.js: an alert's deliveries, and the alerts of a time range with their counts.
export const LIVE_ALERT = `query LiveAlert($id: ID!) { alert(id: $id) { status deliveries { status retriedAt attempts { httpStatus } } } }`;

export const LIVE_COUNT = `query LiveCount($from: Time!, $to: Time!) {
  alerts(first: 100, filter: {from: $from, to: $to}) { totalCount edges { node { deliveryCounts { total sent failed } } } }
}`;
