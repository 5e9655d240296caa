# Import by template ID (the object's name in the template store container).
terraform import saharagen_node_group_template.worker 6f1c0e52-8a4b-4c7e-9a55-0d3c2b1a9e77
