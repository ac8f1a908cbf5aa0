"""People and places: Indian given names, surnames, cities, localities and hospital group names.

Hand-written and small on purpose: Faker is slow, changes between releases (which would break
determinism) and knows little about Indian hospitals. Combinations of these lists give ~100k distinct
names, plenty for a synthetic registry.
"""

from __future__ import annotations

from kx_lake.lib.synth.tables import rows, words

MALE = words("""
Aarav Aditya Ajay Akash Amit Anand Anil Arjun Arun Ashok Deepak Dev Dinesh Ganesh Gaurav Harish Irfan
Karthik Kiran Krishna Mahesh Manoj Mohan Mohammed Naveen Nikhil Prakash Pranav Rahul Rajesh Rakesh Ravi
Rohan Sachin Sanjay Santosh Senthil Shiva Srinivas Sunil Suresh Tarun Varun Venkat Vijay Vikram Vinod Yash
""")
FEMALE = words("""
Aishwarya Ananya Anita Anjali Anusha Aparna Asha Bhavana Deepa Divya Fatima Gayatri Geeta Kavitha Kavya
Lakshmi Latha Madhuri Meena Meera Neha Nandini Nisha Pooja Priya Radha Rekha Revathi Sangeeta Saranya
Shalini Shreya Sneha Sonal Sudha Sunita Swati Tanvi Uma Usha Vaishnavi Vidya Yamini Zoya Farah Ishita
""")
SURNAMES = words("""
Agarwal Bhat Chatterjee Chauhan Das Desai Deshpande Gowda Gupta Hegde Iyer Iyengar Jain Joshi Kapoor
Khan Kulkarni Kumar Menon Mishra Mukherjee Nair Naidu Pandey Patel Patil Pillai Rao Reddy Shah Sharma
Shetty Singh Sinha Srivastava Subramanian Thakur Trivedi Varghese Verma Yadav Banerjee Fernandes
D'Souza Qureshi Siddiqui Kaur Gill Chopra Mehta
""")

# city | state | pincode prefix | latitude | longitude | STD code | city code
CITIES = rows("""
Bengaluru|Karnataka|560|12.9716|77.5946|080|BLR
Mysuru|Karnataka|570|12.2958|76.6394|0821|MYS
Mumbai|Maharashtra|400|19.0760|72.8777|022|BOM
Pune|Maharashtra|411|18.5204|73.8567|020|PNQ
Nagpur|Maharashtra|440|21.1458|79.0882|0712|NAG
Chennai|Tamil Nadu|600|13.0827|80.2707|044|MAA
Coimbatore|Tamil Nadu|641|11.0168|76.9558|0422|CJB
Hyderabad|Telangana|500|17.3850|78.4867|040|HYD
Visakhapatnam|Andhra Pradesh|530|17.6868|83.2185|0891|VTZ
New Delhi|Delhi|110|28.6139|77.2090|011|DEL
Gurugram|Haryana|122|28.4595|77.0266|0124|GGN
Kolkata|West Bengal|700|22.5726|88.3639|033|CCU
Ahmedabad|Gujarat|380|23.0225|72.5714|079|AMD
Surat|Gujarat|395|21.1702|72.8311|0261|STV
Jaipur|Rajasthan|302|26.9124|75.7873|0141|JAI
Lucknow|Uttar Pradesh|226|26.8467|80.9462|0522|LKO
Kochi|Kerala|682|9.9312|76.2673|0484|COK
Thiruvananthapuram|Kerala|695|8.5241|76.9366|0471|TRV
Bhubaneswar|Odisha|751|20.2961|85.8245|0674|BBI
Indore|Madhya Pradesh|452|22.7196|75.8577|0731|IDR
Chandigarh|Chandigarh|160|30.7333|76.7794|0172|IXC
""", str, str, str, float, float, str, str)

LOCALITIES = words("""
MG_Road Jayanagar Indiranagar Koramangala Whitefield Andheri_East Bandra_West Powai Kothrud Baner
Anna_Nagar T_Nagar Velachery Banjara_Hills Madhapur Kondapur Saket Dwarka Salt_Lake Park_Street
Navrangpura Satellite Malviya_Nagar Gomti_Nagar Kakkanad Edappally Civil_Lines Vijay_Nagar Sector_17
Hazratganj Shivaji_Nagar Rajaji_Nagar Gandhi_Nagar Nehru_Nagar Model_Town Green_Park Lake_Road
""")
STREETS = words("""
1st_Main_Road 2nd_Cross 4th_Block Station_Road Temple_Street Market_Road Hospital_Road Church_Street
Ring_Road Gandhi_Road Nehru_Street Ambedkar_Road College_Road Lake_View_Road Park_Avenue 80_Feet_Road
""")
RELATIONS = ("Spouse", "Father", "Mother", "Son", "Daughter", "Brother", "Sister", "Friend")

# group name | short code | facility name stem (used as "<stem> Hospital, <city>")
GROUPS = rows("""
Arogya Health Network|ARG|Arogya
Sanjeevani Hospitals Ltd|SNJ|Sanjeevani
Dhanvantari Healthcare|DHN|Dhanvantari
Suraksha Medical Group|SRK|Suraksha
Nirmaya Hospitals|NRM|Nirmaya
Sushrut Healthcare Pvt Ltd|SSH|Sushrut
Shri Ramakrishna Medical Trust|SRM|Shri Ramakrishna
Charak Care Hospitals|CHK|Charak
""")
# facility type | name suffix | size weight | has beds | has ER
FACILITY_TYPES = rows("""
multispeciality|Multispeciality Hospital|3.0|1|1
hospital|Hospital|1.8|1|1
women_child|Women & Children Hospital|1.2|1|1
clinic|Clinic|0.5|0|0
diagnostic|Diagnostic Centre|0.4|0|0
""", str, str, float, lambda c: c == "1", lambda c: c == "1")
