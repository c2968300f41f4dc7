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
