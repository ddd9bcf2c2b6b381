"""The chat format of the default model: ChatML with hermes tool calls.

render() is the Python twin of CHAT_TEMPLATE (the Jinja text stored in the GGUF as
tokenizer.chat_template). Training text is produced by render(), so the model sees
exactly what a Jinja renderer makes of the same messages. Layout:

  <|im_start|>system
  {system text}

  # Tools
  ...
  <tools>
  {"type": "function", "function": {...}}       one line per tool (tojson)
  </tools>
  ...<|im_end|>
  <|im_start|>user
  What does John 3:16 say?<|im_end|>
  <|im_start|>assistant
  <tool_call>
  {"name": "lookup_verse", "arguments": {"ref": "John 3:16"}}
  </tool_call><|im_end|>
  <|im_start|>tool
  {"ref": "John 3:16", "text": "For God so loved ..."}<|im_end|>
  <|im_start|>assistant
  John 3:16 says: "For God so loved ..."<|im_end|>
"""

import json

DEFAULT_SYSTEM = "You are a helpful assistant."

TOOLS = [
    {"type": "function", "function": {
        "name": "lookup_verse",
        "description": "Get the text of one verse of the King James Bible.",
        "parameters": {"type": "object", "properties": {
            "ref": {"type": "string", "description": "Reference like John 3:16"}},
            "required": ["ref"]}}},
    {"type": "function", "function": {
        "name": "search_verses",
        "description": "Find King James Bible verses containing all the given words.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "Words to search for"}},
            "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "calculator",
        "description": "Evaluate an arithmetic expression with + - * / ^ and parentheses.",
        "parameters": {"type": "object", "properties": {
            "expression": {"type": "string", "description": "Expression like (2 + 3) * 4"}},
            "required": ["expression"]}}},
    {"type": "function", "function": {
        "name": "current_time",
        "description": "Get the current date, weekday and time.",
        "parameters": {"type": "object", "properties": {}, "required": []}}},
]

TOOLS_HEAD = ("\n\n# Tools\n\nYou may call the tools below. Their signatures are in <tools></tools>:\n"
              "<tools>")
TOOLS_TAIL = ("\n</tools>\n\nTo call a tool, reply with a JSON object in <tool_call></tool_call> tags:\n"
              "<tool_call>\n{\"name\": <tool-name>, \"arguments\": <args-json-object>}\n</tool_call>")


def tojson(x):
    """Hugging Face's tojson: json.dumps with default separators, UTF-8 kept."""
    return json.dumps(x, ensure_ascii=False)


def render(messages, tools=None, add_generation_prompt=False):
    """Renders messages exactly as CHAT_TEMPLATE does."""
    out = []
    if messages and messages[0]["role"] == "system":
        sys, rest = messages[0]["content"], messages[1:]
    else:
        sys, rest = DEFAULT_SYSTEM, messages
    out.append("<|im_start|>system\n" + sys)
    if tools:
        out.append(TOOLS_HEAD)
        for t in tools:
            out.append("\n" + tojson(t))
        out.append(TOOLS_TAIL)
    out.append("<|im_end|>\n")
    for m in rest:
        if m["role"] == "assistant":
            out.append("<|im_start|>assistant\n")
            if m.get("content"):
                out.append(m["content"])
            for i, tc in enumerate(m.get("tool_calls") or []):
                f = tc.get("function", tc)
                if m.get("content") or i > 0:
                    out.append("\n")
                args = f["arguments"] if isinstance(f["arguments"], str) else tojson(f["arguments"])
                out.append('<tool_call>\n{"name": "' + f["name"] + '", "arguments": ' + args
                           + "}\n</tool_call>")
            out.append("<|im_end|>\n")
        else:
            out.append("<|im_start|>" + m["role"] + "\n" + m["content"] + "<|im_end|>\n")
    if add_generation_prompt:
        out.append("<|im_start|>assistant\n")
    return "".join(out)


def _jstr(s):
    """A Python string as a Jinja string literal (single quotes, backslash escapes)."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


# The template uses only features every Hugging Face template renderer has: if/for/set,
# slices, `is defined`, `is string`, `tojson`, loop.first, string `+`, {%- -%} trimming.
CHAT_TEMPLATE = (
    "{%- if messages and messages[0].role == 'system' %}\n"
    "    {%- set system_text = messages[0].content %}\n"
    "    {%- set rest = messages[1:] %}\n"
    "{%- else %}\n"
    "    {%- set system_text = " + _jstr(DEFAULT_SYSTEM) + " %}\n"
    "    {%- set rest = messages %}\n"
    "{%- endif %}\n"
    "{{- '<|im_start|>system\\n' + system_text }}\n"
    "{%- if tools %}\n"
    "    {{- " + _jstr(TOOLS_HEAD) + " }}\n"
    "    {%- for tool in tools %}\n"
    "        {{- '\\n' + (tool | tojson) }}\n"
    "    {%- endfor %}\n"
    "    {{- " + _jstr(TOOLS_TAIL) + " }}\n"
    "{%- endif %}\n"
    "{{- '<|im_end|>\\n' }}\n"
    "{%- for message in rest %}\n"
    "    {%- if message.role == 'assistant' %}\n"
    "        {{- '<|im_start|>assistant\\n' }}\n"
    "        {%- if message.content %}\n"
    "            {{- message.content }}\n"
    "        {%- endif %}\n"
    "        {%- if message.tool_calls %}\n"
    "            {%- for tool_call in message.tool_calls %}\n"
    "                {%- if tool_call.function is defined %}\n"
    "                    {%- set call = tool_call.function %}\n"
    "                {%- else %}\n"
    "                    {%- set call = tool_call %}\n"
    "                {%- endif %}\n"
    "                {%- if message.content or not loop.first %}\n"
    "                    {{- '\\n' }}\n"
    "                {%- endif %}\n"
    "                {{- '<tool_call>\\n{\"name\": \"' + call.name + '\", \"arguments\": ' }}\n"
    "                {%- if call.arguments is string %}\n"
    "                    {{- call.arguments }}\n"
    "                {%- else %}\n"
    "                    {{- call.arguments | tojson }}\n"
    "                {%- endif %}\n"
    "                {{- '}\\n</tool_call>' }}\n"
    "            {%- endfor %}\n"
    "        {%- endif %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)


def call_text(name, arguments):
    """The assistant text of one hermes tool call (what the model generates)."""
    return '<tool_call>\n{"name": "' + name + '", "arguments": ' + tojson(arguments) + "}\n</tool_call>"


if __name__ == "__main__":
    msgs = [{"role": "user", "content": "What does John 3:16 say?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"type": "function", "function": {"name": "lookup_verse",
                                                  "arguments": {"ref": "John 3:16"}}}]},
            {"role": "tool", "content": '{"ref": "John 3:16", "text": "For God so loved"}'},
            {"role": "assistant", "content": 'John 3:16 says: "For God so loved"'}]
    print(render(msgs, TOOLS, True))
    print(CHAT_TEMPLATE)
