// Every GraphQL operation the console sends, as literal text: no interpolation, so that the text
// sent is the text listed. `go generate ./console` writes their sha256 list (console/documents.json),
// which Herald always trusts, so the console runs where HERALD_TRUSTED_DOCUMENTS_STRICT allows only
// trusted documents. A test fails while the list is stale.

// ---- Start-up ----

export const QUERY_FIELDS = `query QueryFields { __type(name: "Query") { fields { name } } }`;

export const ME = `query Me { me { role } }`;

export const NAMESPACES = `query Namespaces { namespaces { id name description } }`;

export const PLATFORMS = `query Platforms { platforms { platform label officialHosts webhookPath tokenParam } }`;

// ---- Pickers: the first matches of what is typed, and how many match ----

export const PICK_CONTACTS = `query PickContacts($search: String) {
  contacts(filter: { search: $search }, first: 20) { edges { node { id name } } totalCount }
}`;

export const PICK_GROUPS = `query PickGroups($search: String) {
  groups(filter: { search: $search }, first: 20) { edges { node { id name contactCount } } totalCount }
}`;

// The contacts found to add to a group, with their groups (a contact is in few), to mark the members.
export const PICK_GROUP_CANDIDATES = `query PickGroupCandidates($search: String) {
  contacts(filter: { search: $search }, first: 20) { edges { node { id name groups { id } } } totalCount }
}`;

// Templates are written by hand, so a namespace has few: the template selects list them all.
export const ALL_MESSAGE_TEMPLATES = `query AllMessageTemplates($after: String) {
  messageTemplates(first: 100, after: $after) { edges { node { id name format } } pageInfo { hasNextPage endCursor } }
}`;

// ---- Contacts ----

export const CONTACTS = `query Contacts($search: String, $first: Int, $after: String, $last: Int, $before: String) {
  contacts(filter: { search: $search }, first: $first, after: $after, last: $last, before: $before) {
    edges { node { id name phone dingtalkUserId wecomUserId larkUserId webhooks { url platform hasSecret keyword } groups { id name } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

export const CREATE_CONTACT = `mutation CreateContact($input: CreateContactInput!) { createContact(input: $input) { id name } }`;

export const UPDATE_CONTACT = `mutation UpdateContact($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { id name } }`;

export const DELETE_CONTACT = `mutation DeleteContact($id: ID!) { deleteContact(id: $id) }`;

export const BATCH_DELETE_CONTACTS = `mutation BatchDeleteContacts($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds notFoundIds } }`;

export const TEST_CONTACT = `mutation TestContact($id: ID!) { testContact(id: $id) { id } }`;

// ---- Contact groups ----

export const GROUPS = `query Groups($search: String, $first: Int, $after: String, $last: Int, $before: String) {
  groups(filter: { search: $search }, first: $first, after: $after, last: $last, before: $before) {
    edges { node {
      id name description contactCount members(first: 5) { edges { node { id name } } }
      quietHours { weekdays start end timeZone } quietPolicy quietUntil
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

export const CREATE_GROUP = `mutation CreateContactGroup($input: CreateContactGroupInput!) { createContactGroup(input: $input) { id name } }`;

export const UPDATE_GROUP = `mutation UpdateContactGroup($id: ID!, $input: UpdateContactGroupInput!) { updateContactGroup(id: $id, input: $input) { id name } }`;

export const GROUP = `query Group($id: ID!) {
  group(id: $id) { id name description quietHours { weekdays start end timeZone } quietPolicy }
}`;

// A group's members a page at a time (the group dialog), narrowed by name.
export const GROUP_MEMBERS = `query GroupMembers($id: ID!, $first: Int, $after: String, $search: String) {
  group(id: $id) {
    id contactCount
    members(first: $first, after: $after, search: $search) { edges { node { id name } } pageInfo { hasNextPage endCursor } totalCount }
  }
}`;

export const ADD_GROUP_MEMBERS = `mutation AddContactsToGroup($groupId: ID!, $contactIds: [ID!]!) {
  addContactsToGroup(groupId: $groupId, contactIds: $contactIds) { id name contactCount }
}`;

export const REMOVE_GROUP_MEMBERS = `mutation RemoveContactsFromGroup($groupId: ID!, $contactIds: [ID!]!) {
  removeContactsFromGroup(groupId: $groupId, contactIds: $contactIds) { id name contactCount }
}`;

export const DELETE_GROUP = `mutation DeleteContactGroup($id: ID!) { deleteContactGroup(id: $id) }`;

// ---- Alerts ----

// Each alert with its delivery counts and its first page of deliveries ($deliveries of them);
// ALERT_DELIVERIES reads the pages after it.
export const ALERTS = `query Alerts($status: AlertStatus, $filter: AlertFilter, $first: Int, $after: String, $last: Int, $before: String, $deliveries: Int!) {
  alerts(status: $status, filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    edges { node {
      id title severity status createdAt resolved
      labels { name value }
      source { id name kind }
      links { text url }
      templateError
      silencedBy { id comment endsAt state }
      routedBy { id name }
      deliveryCounts { total pending sent failed held dropped }
      deliveries(first: $deliveries) {
        id platform url status lastError nextAttemptAt contactNames heldBy retriedAt
        attempts { httpStatus platformCode error note }
      }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

// One alert's deliveries a page at a time, in creation order: those after the delivery $after,
// only those in $status when given.
export const ALERT_DELIVERIES = `query AlertDeliveries($id: ID!, $first: Int!, $after: ID, $status: DeliveryStatus) {
  alert(id: $id) {
    id
    deliveryCounts { total pending sent failed held dropped }
    deliveries(first: $first, after: $after, status: $status) {
      id platform url status lastError nextAttemptAt contactNames heldBy retriedAt
      attempts { httpStatus platformCode error note }
    }
  }
}`;

export const PREVIEW_ALERT = `query PreviewAlert($input: SendAlertInput!) { previewAlert(input: $input) { platform url body note contacts { name } } }`;

export const SEND_ALERT = `mutation SendAlert($input: SendAlertInput!) { sendAlert(input: $input) { id title } }`;

// ---- Integrations ----

export const INTEGRATIONS = `query Integrations($first: Int, $after: String, $last: Int, $before: String) {
  integrations(first: $first, after: $after, last: $last, before: $before) {
    edges { node {
      id name kind sendResolved mentionContacts routeByLabels hasSigningSecret timeZone url createdAt lastReceivedAt
      template { id name }
      groups { id name }
      contacts { id name }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

export const INTEGRATION = `query Integration($id: ID!) {
  integration(id: $id) {
    id name kind sendResolved mentionContacts routeByLabels hasSigningSecret timeZone template { id name } groups { id name } contacts { id name }
  }
}`;

export const CREATE_INTEGRATION = `mutation CreateIntegration($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id name kind url hasSigningSecret } token }
}`;

export const UPDATE_INTEGRATION = `mutation UpdateIntegration($id: ID!, $input: UpdateIntegrationInput!) { updateIntegration(id: $id, input: $input) { id name } }`;

export const DELETE_INTEGRATION = `mutation DeleteIntegration($id: ID!) { deleteIntegration(id: $id) }`;

export const ROTATE_INTEGRATION_TOKEN = `mutation RotateIntegrationToken($id: ID!) {
  rotateIntegrationToken(id: $id) { integration { id name kind url hasSigningSecret } token }
}`;

// ---- Message templates ----

export const MESSAGE_TEMPLATES = `query MessageTemplates($first: Int, $after: String, $last: Int, $before: String) {
  messageTemplates(first: $first, after: $after, last: $last, before: $before) {
    edges { node { id name format updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`;

export const BUILTIN_MESSAGE_TEMPLATES = `query BuiltinMessageTemplates { builtinMessageTemplates { id name title body format } }`;

export const MESSAGE_TEMPLATE = `query MessageTemplate($id: ID!) { messageTemplate(id: $id) { id name title body format builtin updatedAt } }`;

export const PREVIEW_TEMPLATE = `query PreviewTemplate($input: PreviewTemplateInput!) {
  previewTemplate(input: $input) { platform url body companionBody format note }
}`;

export const CREATE_MESSAGE_TEMPLATE = `mutation CreateMessageTemplate($input: MessageTemplateInput!) { createMessageTemplate(input: $input) { id name } }`;

export const UPDATE_MESSAGE_TEMPLATE = `mutation UpdateMessageTemplate($id: ID!, $input: MessageTemplateInput!) { updateMessageTemplate(id: $id, input: $input) { id name } }`;

export const DELETE_MESSAGE_TEMPLATE = `mutation DeleteMessageTemplate($id: ID!) { deleteMessageTemplate(id: $id) }`;

// ---- Routes and silences ----

export const ROUTES = `query Routes {
  routes {
    id name position continue matchers { label op value } groups { id name } contacts { id name } template { id name }
  }
}`;

export const ROUTE = `query Route($id: ID!) {
  route(id: $id) {
    id name position continue matchers { label op value } groups { id name } contacts { id name } template { id name }
  }
}`;

export const CREATE_ROUTE = `mutation CreateRoute($input: RouteInput!) { createRoute(input: $input) { id name position } }`;

export const UPDATE_ROUTE = `mutation UpdateRoute($id: ID!, $input: RouteInput!) { updateRoute(id: $id, input: $input) { id name position } }`;

export const DELETE_ROUTE = `mutation DeleteRoute($id: ID!) { deleteRoute(id: $id) }`;

export const MOVE_ROUTE = `mutation MoveRoute($id: ID!, $position: Int!) {
  moveRoute(id: $id, position: $position) {
    id name position continue matchers { label op value } groups { id name } contacts { id name } template { id name }
  }
}`;

export const TEST_ROUTE = `query TestRoute($labels: [LabelInput!]!, $severity: Severity) {
  testRoute(labels: $labels, severity: $severity) {
    labels { name value }
    matched
    routes { id name position continue }
    groups { id name }
    contacts { id name }
    silencedBy { id comment endsAt matchers { label op value } }
    silences { id state startsAt endsAt comment }
    quiet { group { id name } until policy }
  }
}`;

export const SILENCES = `query Silences($state: SilenceState, $after: String) {
  silences(state: $state, first: 20, after: $after) {
    edges { node { id matchers { label op value } startsAt endsAt comment createdBy state createdAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

export const CREATE_SILENCE = `mutation CreateSilence($input: SilenceInput!) { createSilence(input: $input) { id state startsAt endsAt } }`;

export const EXPIRE_SILENCE = `mutation ExpireSilence($id: ID!) { expireSilence(id: $id) { id state endsAt } }`;

// ---- Delivery health and live changes ----

// The overview: one range's figures, all counted by the database.
export const DELIVERY_STATS = `query DeliveryStats($from: Time!, $to: Time!, $bucket: StatsBucket) {
  deliveryStats(from: $from, to: $to, bucket: $bucket) {
    from to bucket alerts
    totals { total pending sent failed held dropped }
    buckets { start counts { total pending sent failed held dropped } }
    latency { platform attempts p50Ms p95Ms }
    failingRobots(first: 5) { platform failed total lastFailure { id alertId url lastError contactNames } }
    alertsBySource { sourceId alerts source { id name kind } }
  }
}`;

// The sources the history filters by: integrations are few, a page holds them all.
export const INTEGRATION_NAMES = `query IntegrationNames { integrations(first: 100) { edges { node { id name kind } } } }`;

export const SEND_SAMPLE_NOTIFICATION = `mutation SendSampleNotification($id: ID!) { sendSampleNotification(id: $id) { id title status } }`;

export const RETRY_DELIVERY = `mutation RetryDelivery($id: ID!) { retryDelivery(id: $id) { id status retriedAt } }`;

export const RETRY_FAILED_DELIVERIES = `mutation RetryFailedDeliveries($alertId: ID!) { retryFailedDeliveries(alertId: $alertId) { id status } }`;

// Over the WebSocket: the alerts of the console's namespace as they change, and one alert's deliveries.
export const ALERT_CHANGED = `subscription AlertChanged {
  alertChanged { id status deliveryCounts { total pending sent failed held dropped } }
}`;

export const DELIVERY_CHANGED = `subscription DeliveryChanged($alertId: ID!) {
  deliveryChanged(alertId: $alertId) {
    id alertId platform url status lastError nextAttemptAt contactNames heldBy retriedAt
    attempts { httpStatus platformCode error note }
  }
}`;
