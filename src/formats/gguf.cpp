// placeholder: implemented by the formats work
