def hello():
    return "no FlowSpec here"
