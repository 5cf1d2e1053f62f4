---@brief Ryan wire protocol, version 1: method names, event kinds and error codes, defined once.
--- Mirrors docs/protocol.md, ryan_server/protocol.py and editors/vscode/src/protocol.ts; change them
--- together (tests/unit/test_protocol_agreement.py checks that the three agree).

local M = {}

M.VERSION = 1

---@enum ryan.Method
M.method = {
  chat = "ryan/chat",
  models = "ryan/models",
  status = "ryan/status",
  sessions = "ryan/sessions",
  session = "ryan/session",
  delete_session = "ryan/deleteSession",
  checkpoints = "ryan/checkpoints",
  diff = "ryan/diff",
  restore = "ryan/restore",
  redo = "ryan/redo",
  switch_branch = "ryan/switchBranch",
  progress = "$/progress",
  show_message_request = "window/showMessageRequest",
  show_message = "window/showMessage",
  did_change_configuration = "workspace/didChangeConfiguration",
}

---@enum ryan.EventKind
M.event = {
  start = "start",
  thinking = "thinking",
  content = "content",
  tool_call = "toolCall",
  tool_output = "toolOutput",
  tool_result = "toolResult",
  retry = "retry",
  fallback = "fallback",
  resumed = "resumed",
  notice = "notice",
}

---@enum ryan.ErrorCode
M.error = {
  invalid_params = -32602,
  backend_unreachable = -32001,
  model_not_found = -32002,
  backend_error = -32003,
  session_busy = -32004,
  session_not_found = -32005,
  checkpoint_not_found = -32006,
  request_cancelled = -32800,
}

---@enum ryan.ToolStatus
M.tool_status = {
  ok = "ok",
  error = "error",
  denied = "denied",
}

---@enum ryan.FileChange
M.file_change = {
  created = "created",
  modified = "modified",
  deleted = "deleted",
}

---@enum ryan.StopReason
M.stop_reason = {
  stop = "stop",
  length = "length",
  max_steps = "maxSteps",
}

return M
